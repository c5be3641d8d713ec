// chart.js hooks push() on the arrays it draws and syncs its elements per call; appending thousands of points
// one push at a time costs a parse and an element insert each. Appending them in a few bulk pushes costs one.
export function appendAll<T>(target: T[], items: readonly T[]): void {
  const CHUNK = 8192; // below engines' argument-count limits
  for (let i = 0; i < items.length; i += CHUNK) target.push(...items.slice(i, i + CHUNK));
}
