/**
 * A request the server refuses, with the HTTP status it answers (400, 413, 415, ...). Every
 * route on the engine's ports throws and maps this one class, so a refusal means the same
 * status wherever it is raised.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
