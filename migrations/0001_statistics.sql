CREATE TABLE "network_data_point" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"jobs_created" numeric(78, 0) NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"payments" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"rewards_paid" numeric(78, 0) NOT NULL,
	"rewards_claimed" numeric(78, 0) NOT NULL,
	"total_stake" numeric(78, 0) NOT NULL,
	"active_providers" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "network_stat_day" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"jobs_created" numeric(78, 0) NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"payments" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"rewards_paid" numeric(78, 0) NOT NULL,
	"rewards_claimed" numeric(78, 0) NOT NULL,
	"total_jobs_created" numeric(78, 0) NOT NULL,
	"total_fees" numeric(78, 0) NOT NULL,
	"total_stake" numeric(78, 0) NOT NULL,
	"max_total_stake" numeric(78, 0) NOT NULL,
	"active_providers" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "network_stat_hour" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"jobs_created" numeric(78, 0) NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"payments" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"rewards_paid" numeric(78, 0) NOT NULL,
	"rewards_claimed" numeric(78, 0) NOT NULL,
	"total_jobs_created" numeric(78, 0) NOT NULL,
	"total_fees" numeric(78, 0) NOT NULL,
	"total_stake" numeric(78, 0) NOT NULL,
	"max_total_stake" numeric(78, 0) NOT NULL,
	"active_providers" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "provider_data_point" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"provider" text NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"rewards" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"stake" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "provider_stat_day" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"provider" text NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"rewards" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"rewards_earned" numeric(78, 0) NOT NULL,
	"stake" numeric(78, 0) NOT NULL,
	"lowest_stake" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "provider_stat_hour" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" bigint NOT NULL,
	"timestamp" bigint NOT NULL,
	"provider" text NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"rewards" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"rewards_earned" numeric(78, 0) NOT NULL,
	"stake" numeric(78, 0) NOT NULL,
	"lowest_stake" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE UNIQUE INDEX "network_data_point_current" ON "network_data_point" USING btree ("id") WHERE "network_data_point"."block_to" is null;--> statement-breakpoint
CREATE INDEX "network_data_point_block_from" ON "network_data_point" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "network_data_point_timestamp" ON "network_data_point" USING btree ("timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "network_stat_day_bucket" ON "network_stat_day" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "network_stat_day_block_from" ON "network_stat_day" USING brin ("block_from");--> statement-breakpoint
CREATE UNIQUE INDEX "network_stat_hour_bucket" ON "network_stat_hour" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "network_stat_hour_block_from" ON "network_stat_hour" USING brin ("block_from");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_data_point_current" ON "provider_data_point" USING btree ("id") WHERE "provider_data_point"."block_to" is null;--> statement-breakpoint
CREATE INDEX "provider_data_point_block_from" ON "provider_data_point" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "provider_data_point_provider" ON "provider_data_point" USING btree ("provider");--> statement-breakpoint
CREATE INDEX "provider_data_point_timestamp" ON "provider_data_point" USING btree ("timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_stat_day_bucket" ON "provider_stat_day" USING btree ("provider","timestamp");--> statement-breakpoint
CREATE INDEX "provider_stat_day_block_from" ON "provider_stat_day" USING brin ("block_from");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_stat_hour_bucket" ON "provider_stat_hour" USING btree ("provider","timestamp");--> statement-breakpoint
CREATE INDEX "provider_stat_hour_block_from" ON "provider_stat_hour" USING brin ("block_from");