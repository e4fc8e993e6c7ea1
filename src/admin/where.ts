/**
 * A WHERE clause built from a request's filters: each condition is written with `?` for its one value
 * (which may stand more than once) and numbered as a PostgreSQL parameter in order.
 */
export class Where {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  add(sql: string, value: unknown): void {
    this.params.push(value);
    this.conditions.push(sql.replaceAll('?', '$' + this.params.length));
  }

  /** `column = value` for each query parameter present, by `[parameter, column]`. */
  equals(q: URLSearchParams, pairs: readonly (readonly [string, string])[]): void {
    for (const [param, column] of pairs) {
      const v = q.get(param);
      if (v) this.add(`${column} = ?`, v);
    }
  }

  /** `WHERE ...`, or '' with no condition. */
  get sql(): string {
    return this.conditions.length ? 'WHERE ' + this.conditions.join(' AND ') : '';
  }
}
