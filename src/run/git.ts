import { execFileSync } from 'node:child_process';

/** The commit and branch of the repository holding `dir`; nulls outside git. */
export function gitInfo(dir: string): { commit: string | null; ref: string | null } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim() || null;
    } catch {
      return null;
    }
  };
  return { commit: git('rev-parse', 'HEAD'), ref: git('rev-parse', '--abbrev-ref', 'HEAD') };
}
