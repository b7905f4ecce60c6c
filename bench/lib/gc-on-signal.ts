/**
 * Preloaded into the forwarder by the scale bench (`node --expose-gc --require` this): SIGUSR2
 * runs a full GC, so the bench can read the heap that is really retained rather than whatever
 * garbage the last collection left.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
