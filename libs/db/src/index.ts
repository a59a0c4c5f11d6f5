export * from './entities';
export * from './data-source';
export * from './migrate';
export * from './events';
export { seedDatabase } from './seed/seed';
export { FOOTER as DEFAULT_FOOTER, QUOTES, TOPICS as SEED_TOPICS } from './seed/seed-data';
export * from './named-statement';
export * from './provider-events.sql';
