/**
 * A store failure an operator must act on (a data directory in use, a schema newer than this build, an
 * unreachable database). The message is one line that names the fix; it never carries a password.
 */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.search = '';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
