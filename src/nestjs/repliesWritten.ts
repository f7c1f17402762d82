/**
 * Waiting for replies to leave the process, between "every batcher has settled its requests" and closing the
 * transport. Two steps, because a reply travels in two:
 *
 * 1. A settled request reaches its `process()` subscriber a microtask later, and Nest's `Server.send` hands each
 *    value of a handler's Observable to the transport on `process.nextTick`: a macrotask after the last request
 *    settled, every reply has been passed to `socket.write`.
 * 2. `socket.write` copies what the kernel takes at once and keeps the rest (a large reply, a peer reading slowly)
 *    in the process, behind a pending write request; `app.close()` destroys the sockets and that rest with them.
 *    So wait until no write request is pending, for at most `maxWaitMs`: a peer that stopped reading must not
 *    hold the shutdown forever.
 *
 * Node-only, as Nest is; where `process.getActiveResourcesInfo` is missing, step 2 is skipped.
 */
export async function repliesWritten(maxWaitMs: number): Promise<void> {
  await delay(0);
  const activeResources = nodeProcess()?.getActiveResourcesInfo;
  if (typeof activeResources !== 'function') return;
  const deadline = Date.now() + maxWaitMs;
  // 'WriteWrap' (writev) and 'SimpleWriteWrap' (write): libuv write requests not yet completed.
  while (activeResources().some((name) => name.endsWith('WriteWrap')) && Date.now() < deadline) await delay(2);
}

/** Node's `process` without Node's types: the library compiles without them. */
function nodeProcess(): { getActiveResourcesInfo?: () => string[] } | undefined {
  return (globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }).process;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
