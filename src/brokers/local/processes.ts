/**
 * True while a process with this pid exists. Signal 0 checks without signalling: ESRCH means the
 * process is gone; EPERM means it exists but belongs to another user.
 */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
