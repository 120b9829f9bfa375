/**
 * Input values are passed to commands as single argv words; nothing else belongs in one. The first
 * character may not be '-', so a value can never become an option of the command it is given to.
 */
export const SAFE_VALUE = /^[A-Za-z0-9_./][A-Za-z0-9_.@:+\-\/]*$/;
