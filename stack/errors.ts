/**
 * An error the user can act on: what happened, and what to do about it.
 * The CLI prints both and exits non-zero; nothing else is printed as a stack trace.
 */
export class StackError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'StackError';
  }

  format(): string {
    const lines = [`error: ${this.message}`, `  what to do: ${this.hint}`];
    if (this.details) lines.push('', this.details.trimEnd());
    return lines.join('\n');
  }
}
