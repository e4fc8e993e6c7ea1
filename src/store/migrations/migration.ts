/** One schema step. Versions are applied in ascending order, each once, each in its own transaction. */
export interface Migration {
  /** Unique, ascending; never renumber or edit a released migration: add a new one. */
  version: number;
  /** Short and stable (recorded beside the version, checked at start). */
  name: string;
  /** One or more SQL statements, the same on the embedded engine and on PostgreSQL. */
  sql: string;
}
