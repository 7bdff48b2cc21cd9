// What a command prints on success: a line for people, or with --json the same facts as one
// JSON object on one line, for scripts.

export function print(values: Record<string, unknown>, json: unknown, text: string): void {
  process.stdout.write(values['json'] === true ? `${JSON.stringify(json)}\n` : `${text}\n`);
}
