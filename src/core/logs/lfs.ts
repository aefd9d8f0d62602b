// Git LFS pointers: what a clone without `git lfs` (or with `GIT_LFS_SKIP_SMUDGE=1`) leaves in place
// of each large file, event files and logs included. A small text file, never the log itself.

const SIGNATURE = 'version https://git-lfs.github.com/spec/v1';

/** What to say of a file that is a pointer (after its name). */
export const LFS_POINTER = 'a Git LFS pointer, not the log itself (run `git lfs pull`)';

/** Whether `head` (a file's first bytes, or its first text) is a Git LFS pointer's. */
export function isLfsPointer(head: Uint8Array | string, at = 0): boolean {
  if (typeof head === 'string') return head.startsWith(SIGNATURE, at);
  if (head.length - at < SIGNATURE.length) return false;
  for (let i = 0; i < SIGNATURE.length; i++) if (head[at + i] !== SIGNATURE.charCodeAt(i)) return false;
  return true;
}
