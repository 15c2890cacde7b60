/**
 * Cheaper property lookups on generator objects.
 *
 * @module
 */

/** %GeneratorPrototype%: the prototype of every generator function's `prototype` object. */
const GENERATOR_PROTOTYPE = Object.getPrototypeOf(
  function* () {
    // An empty generator function, only for its prototype chain.
  }.prototype,
) as object;

/**
 * Where the properties of `value` can be read: %GeneratorPrototype% for a generator object
 * that has no own property and whose function's `prototype` has none either (every lookup on
 * it ends there, so it finds the same values), else `value` itself.
 *
 * Why: a generator function defined inside the application is a new closure per request, so
 * each request's generator object has a new hidden class and every property read on it
 * (`then`, `Symbol.iterator`, `next`, `close`) is a megamorphic miss of about 0.3 µs; on the
 * shared prototype the same read is a cached hit. Only an accessor on the shared prototypes
 * would see another receiver (the prototype instead of the generator).
 */
export function lookupTarget(value: object): object {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null || Object.getPrototypeOf(proto) !== GENERATOR_PROTOTYPE) return value;
  return Reflect.ownKeys(proto).length === 0 && Reflect.ownKeys(value).length === 0
    ? GENERATOR_PROTOTYPE
    : value;
}
