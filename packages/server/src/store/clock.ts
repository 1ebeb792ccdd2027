/** The database clock, in SQL: one clock for every replica, whatever their own clocks say. */

/** Milliseconds since the epoch by the database clock. */
export const DB_NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
