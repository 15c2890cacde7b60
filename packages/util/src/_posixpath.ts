/**
 * Python's `posixpath.normpath`, which `shift_path_info` relies on. Node's
 * `path.posix.normalize` differs: it keeps a trailing `/`, folds a leading `//` into `/`, and
 * normalizes `''` to `'.'` the same way but not `'//'`.
 *
 * @module
 */

/**
 * Collapses empty and `.` segments and resolves `..` lexically. Exactly two leading slashes
 * are kept (POSIX leaves their meaning to the implementation); one or three or more become one.
 * A relative path keeps leading `..` segments; an empty result is `.`.
 */
export function normpath(path: string): string {
  if (path === '') return '.';
  let root = '';
  if (path.startsWith('/')) root = path.startsWith('//') && !path.startsWith('///') ? '//' : '/';
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') {
      kept.push(segment);
    } else if (kept.length > 0 && kept[kept.length - 1] !== '..') {
      kept.pop();
    } else if (root === '') {
      // A relative path cannot climb above its start lexically: keep the `..`.
      kept.push(segment);
    }
    // Above the root, `..` is the root itself: dropped.
  }
  return root + kept.join('/') || '.';
}
