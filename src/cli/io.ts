/** Where a command writes: stdout for its report, stderr for notices and errors. */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
}
