// The CLI from source (what bin/img-resizer.js runs from dist/), for tests run through `node --import tsx`.
import { main } from '../../src/main.js';

await main(process.argv);
