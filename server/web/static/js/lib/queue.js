// What the server says about a transaction, read the same way by every screen: its place in
// the queue and the moves allowed on it now. The rules behind both live in the server's domain
// (server/domain/moves.py allowed_moves, server/domain/waits.py queue_place); the screens only
// read the answers a staff view carries ("allowed", "queue_place").

/**
 * First come, first served, for Array.prototype.sort. Staff views carry queue_place, an opaque
 * key that sorts as a string; public views (the lobby's) carry queue_since and id instead.
 * Compared by code unit, never localeCompare: a collation may ignore the punctuation in the key.
 */
export function byQueuePlace(a, b) {
  if (typeof a.queue_place === "string" && typeof b.queue_place === "string") {
    return compareText(a.queue_place, b.queue_place);
  }
  return compareText(String(a.queue_since ?? ""), String(b.queue_since ?? "")) || Number(a.id) - Number(b.id);
}

function compareText(x, y) {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether a staff view lists `move` as allowed now; a view without the list allows nothing. */
export function allows(view, move) {
  return Boolean(view && Array.isArray(view.allowed) && view.allowed.includes(move));
}

/** Whether a staff view allows any of `moves` now. */
export function allowsAny(view, moves) {
  return moves.some((move) => allows(view, move));
}

/** Call order, as the server calls them: priority first, then first come first served. */
export function byCallOrder(a, b) {
  return Number(Boolean(b.priority)) - Number(Boolean(a.priority)) || byQueuePlace(a, b);
}

/**
 * The queue as it stands (a VersionedState's load): the snapshot, or null when the server could
 * not give one, so that it is asked again.
 */
export async function queueSnapshot(live) {
  const ack = await live.command("queue_snapshot");
  return ack.ok ? ack : null;
}
