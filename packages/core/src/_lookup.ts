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

/** The most a remembered prototype's score climbs to; also how long a refusal lasts. */
const LIMIT = 64;

/** No object's prototype: what `remembered` holds until a generator comes. */
const NOTHING = {};
/** The generator function `prototype` remembered: its objects are read directly. */
let remembered: object = NOTHING;
/** Hits minus misses of `remembered`, from 0 to {@link LIMIT}: it is replaced only at 0. */
let score = 0;
/** Generator prototypes still to go by before another one is remembered. */
let skip = 0;

/**
 * Where the properties of `value` can be read: `value` itself, or %GeneratorPrototype% for a
 * generator object that has no own property and whose function's `prototype` has none either
 * (every lookup on it ends there, so it finds the same values).
 *
 * Why: a generator function defined inside the application is a new closure per request, so
 * each request's generator object has a new hidden class and every property read on it
 * (`then`, `Symbol.iterator`, `next`, `close`) is a megamorphic miss of about 0.3 µs; on the
 * shared prototype the same read is a cached hit. Only an accessor on the shared prototypes
 * would see another receiver (the prototype instead of the generator).
 *
 * A generator function defined once (at module level) gives objects of one hidden class, which
 * the caches already know: its objects are read directly, without the two `Reflect.ownKeys()`
 * calls (0.2–0.5 µs). So the prototype of the generators seen most is remembered; when a new
 * one replaced one that was never seen again (a closure per request), the next {@link LIMIT}
 * are not remembered, so that such an application does not keep each request's prototype
 * alive (which costs more garbage collection than the lookup saves).
 */
export function lookupTarget(value: object): object {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === remembered) {
    if (score < LIMIT) score += 1;
    return value;
  }
  if (proto === null || Object.getPrototypeOf(proto) !== GENERATOR_PROTOTYPE) return value;
  if (score > 0) {
    score -= 1;
  } else if (skip > 0) {
    skip -= 1;
  } else {
    if (remembered !== NOTHING) skip = LIMIT;
    remembered = proto;
  }
  return Reflect.ownKeys(proto).length === 0 && Reflect.ownKeys(value).length === 0
    ? GENERATOR_PROTOTYPE
    : value;
}
