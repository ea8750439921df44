/** An error a Retry/Catch matches by name (`Error`), with `Cause` = message. */
export class StatesError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}
