/**
 * The function bundle's entry: both handlers in one file, so one zip serves the pipeline's function
 * (index.handler) and the HTTP API's (index.apiHandler), with the same image core and settings.
 */
export { handler } from './handler.js';
export { handler as apiHandler } from './api-handler.js';
