/** examples/fastify.ts, the Fastify 5 recipe, held to the HTTP recipe contract (test/recipes.support.ts). */
import type { AddressInfo } from 'node:net';
import { buildApp, shutdown } from '../examples/fastify.js';
import { holdsTheHttpRecipeContract } from './recipes.support.js';

holdsTheHttpRecipeContract(
  'examples/fastify.ts',
  async (batcher) => {
    const app = buildApp(batcher);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      shutdown: () => shutdown(app, batcher),
      listening: () => app.server.listening,
    };
  },
  'fastify',
);
