import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * @internal Syncs the directory holding `path`, which makes a new file's directory entry (or a
 * rename into it) durable. Some platforms (Windows) cannot open a directory: there the entry's
 * durability is the file system's business and this step is skipped.
 */
export async function syncDirectory(path: string): Promise<void> {
  let directory: FileHandle | undefined;
  try {
    directory = await open(dirname(path), 'r');
    await directory.sync();
  } catch {
    return;
  } finally {
    await directory?.close();
  }
}
