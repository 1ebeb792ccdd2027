CREATE TABLE "registry_cache_listeners" (
	"pid" integer PRIMARY KEY NOT NULL,
	"registered_at" bigint NOT NULL
);
