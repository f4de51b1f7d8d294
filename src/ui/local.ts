import type { LocalStackReport } from '../operations/local.js';
import type { Output } from './output.js';

function document({ running, endpoint, port, pid, version, stateDir, rekognitionEndpoint, functionNodeVersion, functionNodeProblem }: LocalStackReport) {
  return { running, endpoint, port, pid, version, stateDir, rekognitionEndpoint, functionNodeVersion, ...(functionNodeProblem === null ? {} : { functionNodeProblem }) };
}

/** Which Node.js the functions run on, when the stack recorded it. */
function nodeLine(output: Output, report: LocalStackReport): void {
  if (report.functionNodeVersion !== null) output.info(`Functions run on Node.js ${report.functionNodeVersion}`);
}

/** Where moto answers Rekognition for the functions, when it does. */
function rekognitionLine(output: Output, report: LocalStackReport): void {
  if (report.rekognitionEndpoint !== null) output.info(`Rekognition: ${report.rekognitionEndpoint} (moto, canned labels)`);
}

export function renderLocalStart(output: Output, report: LocalStackReport): void {
  if (report.functionNodeProblem !== null) output.warn(report.functionNodeProblem);
  if (output.json) output.result(document(report));
  else if (report.alreadyRunning) output.success(`Local stack already running on ${report.endpoint} (pid ${report.pid ?? '?'})`);
  else {
    output.info(`Endpoint: ${report.endpoint}`);
    rekognitionLine(output, report);
  }
}

export function renderLocalStatus(output: Output, report: LocalStackReport): void {
  if (output.json) output.result(document(report));
  else if (report.running) {
    output.info(`running on ${report.endpoint} (pid ${report.pid ?? '?'}, MiniStack ${report.version})`);
    nodeLine(output, report);
    rekognitionLine(output, report);
  } else output.info('not running (start it with `img-resizer local start`)');
}

export function renderLocalStop(output: Output, result: { stopped: boolean; pid: number | undefined }): void {
  if (output.json) output.result({ stopped: result.stopped, pid: result.pid });
  else if (result.stopped) output.success(`Stopped the local stack (pid ${result.pid ?? '?'})`);
  else output.info('The local stack was not running.');
}

export function renderLocalReset(output: Output, result: { reset: boolean; endpoint: string }): void {
  if (!result.reset) output.info('The local stack is not running; nothing to reset.');
  else if (output.json) output.result({ reset: true, endpoint: result.endpoint });
  else output.success(`Reset the local stack on ${result.endpoint}`);
}
