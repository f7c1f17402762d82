/** examples/express.ts, the Express 5 recipe, held to the HTTP recipe contract (test/recipes.support.ts). */
import type { AddressInfo } from 'node:net';
import { buildApp, shutdown } from '../examples/express.js';
import { holdsTheHttpRecipeContract } from './recipes.support.js';

holdsTheHttpRecipeContract(
  'examples/express.ts',
  async (batcher) => {
    const server = buildApp(batcher).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      shutdown: () => shutdown(server, batcher),
      listening: () => server.listening,
    };
  },
  'express',
);
