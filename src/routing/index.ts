/**
 * Routing: the route parser and RouteBatch (routes.ts), the rules a route must follow
 * (rules.ts) and the RIB (rib.ts). Addresses, prefixes and MACs are src/net's.
 */
export * from './routes';
