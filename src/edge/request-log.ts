/** What the one log line of a request says, filled in as the request moves along. */
export interface RequestLog {
  route: string;
  server?: string;
  method?: string;
  session?: boolean;
}
