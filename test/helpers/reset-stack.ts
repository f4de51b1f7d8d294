import { beforeAll, inject } from 'vitest';
import { resetLocalStack } from '../../src/local/ministack.js';

// Each test file starts from an empty stack.
beforeAll(async () => {
  await resetLocalStack(inject('ministackEndpoint'));
});
