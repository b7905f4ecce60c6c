/**
 * Routing: prefixes, interface addresses and their conflicts, MACs and route lines.
 * Entry file of src/routing; import from here.
 */
export * from './prefix';
