import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEMO_DIR, runDemo } from '../operations/demo.js';
import { action, parsePositiveInt } from './shared.js';

export { runDemo, type DemoOptions, type DemoReport } from '../operations/demo.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('the whole pipeline in one go: init, upload a few photographs, wait, resize one locally, show the metadata (try: demo --local)')
    .addOption(new Option('--photos <n>', 'how many photographs to upload').default(4).argParser(parsePositiveInt('--photos', 18)))
    .option('--out <dir>', 'where the local results go', DEMO_DIR)
    .option('--generated-images', 'draw sample images instead of fetching real photographs (no network needed)')
    .addOption(new Option('--timeout <seconds>', 'how long to wait for the function').default(120).argParser(parsePositiveInt('--timeout', 3600)))
    .action(
      action(async (context: AppContext, flags: { photos: number; out: string; timeout: number; generatedImages?: boolean }) => {
        const { exitCode } = await runDemo(context, {
          photos: flags.photos,
          outDir: flags.out,
          timeoutSeconds: flags.timeout,
          generatedImages: Boolean(flags.generatedImages),
        });
        return exitCode;
      }),
    );
}
