/**
 * Process entry: the `mlflow-registry` command (cli/index.ts). With no arguments it starts the server
 * (cli/serve.ts), so `pnpm start`, the container image and `node main.js` keep doing what they did.
 */
import { runCli } from './cli/index.js';

void runCli(process.argv.slice(2));
