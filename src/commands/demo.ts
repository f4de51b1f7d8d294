import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEMO_DIR } from '../constants.js';
import type { DemoOptions, DemoOutcome } from '../operations/demo.js';
import { commandAction, flag, parsePositiveInt, requiredNumber, requiredString } from './shared.js';

/** The command's whole work once its flags are valid: the demo operation, with its steps' results rendered. */
export async function runDemo(context: AppContext, options: DemoOptions = {}): Promise<DemoOutcome> {
  const operation = await import('../operations/demo.js');
  const { renderResize } = await import('../ui/resize.js');
  const { renderDemo, renderDemoStep } = await import('../ui/demo.js');
  const { metadataListRenderer } = await import('../ui/metadata.js');
  const { renderInit, stepReporter } = await import('../ui/provision.js');
  const { output, cwd } = context;
  let steps = 0;
  const outcome = await operation.runDemo(
    context,
    { ...options, ...(options.confirm === undefined && context.canPrompt ? { confirm: await askPerson() } : {}) },
    {
      step: (title) => { renderDemoStep(output, title, (steps += 1) === 1); },
      // Under --json the demo's own report is the one document: init's summary is for people.
      init: { onEvent: stepReporter(output), finish: (result) => { if (!output.json) renderInit(output, result); } },
      // Under --json the demo's own report is the one document; the step's table is for people.
      resized: (report) => { if (!output.json) renderResize(output, report, cwd); },
      // The step shows the table even under --json (on stderr there, as all human text).
      metadata: metadataListRenderer(output, false),
    },
  );
  renderDemo(output, outcome, cwd);
  return outcome;
}

async function askPerson(): Promise<(question: string) => Promise<boolean>> {
  const { confirmWithPerson } = await import('../ui/prompt.js');
  return confirmWithPerson;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('the whole pipeline in one go: init, upload a few photographs, wait, resize one locally, show the metadata (try: demo --local)')
    .addOption(new Option('--photos <n>', 'how many photographs to upload').default(4).argParser(parsePositiveInt('--photos', 18)))
    .option('--out <dir>', 'where the local results go', DEMO_DIR)
    .option('--generated-images', 'draw sample images instead of fetching real photographs (no network needed)')
    .addOption(new Option('--timeout <seconds>', 'how long to wait for the function').default(120).argParser(parsePositiveInt('--timeout', 3600)))
    .action(
      commandAction((context, { options }) =>
        runDemo(context, {
          photos: requiredNumber(options, 'photos'),
          outDir: requiredString(options, 'out'),
          timeoutSeconds: requiredNumber(options, 'timeout'),
          generatedImages: flag(options, 'generatedImages'),
        }),
      ),
    );
}
