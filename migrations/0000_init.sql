CREATE TABLE "block" (
	"chain_id" integer NOT NULL,
	"number" bigint NOT NULL,
	"hash" text NOT NULL,
	"parent_hash" text,
	"timestamp" bigint NOT NULL,
	CONSTRAINT "block_chain_id_number_pk" PRIMARY KEY("chain_id","number")
);
--> statement-breakpoint
CREATE TABLE "chain_event" (
	"chain_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"block_hash" text NOT NULL,
	"transaction_hash" text NOT NULL,
	"transaction_index" integer NOT NULL,
	"address" text NOT NULL,
	"contract" text NOT NULL,
	"name" text NOT NULL,
	"args" jsonb NOT NULL,
	"timestamp" bigint NOT NULL,
	CONSTRAINT "chain_event_chain_id_block_number_log_index_pk" PRIMARY KEY("chain_id","block_number","log_index")
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"chain_id" integer PRIMARY KEY NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint NOT NULL,
	"finalized_block" bigint NOT NULL,
	"has_indexing_errors" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "client" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"jobs_created" numeric(78, 0) NOT NULL,
	"total_escrowed" numeric(78, 0) NOT NULL,
	"total_paid" numeric(78, 0) NOT NULL,
	"total_refunded" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "dispute" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"job" text NOT NULL,
	"raised_by" text NOT NULL,
	"evidence_hash" text NOT NULL,
	"status" text NOT NULL,
	"slashed" numeric(78, 0) NOT NULL,
	"refund" numeric(78, 0) NOT NULL,
	"raised_at" numeric(78, 0) NOT NULL,
	"resolved_at" numeric(78, 0),
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "epoch" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"number" numeric(78, 0) NOT NULL,
	"fees" numeric(78, 0) NOT NULL,
	"funded" numeric(78, 0) NOT NULL,
	"total_work" numeric(78, 0) NOT NULL,
	"rewards" numeric(78, 0) NOT NULL,
	"claimed" numeric(78, 0) NOT NULL,
	"finalized" boolean NOT NULL,
	"started_at" numeric(78, 0),
	"finalized_at" numeric(78, 0),
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "job" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"client" text NOT NULL,
	"model" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"provider" text,
	"payment" numeric(78, 0) NOT NULL,
	"fee" numeric(78, 0),
	"refund" numeric(78, 0),
	"input_hash" text NOT NULL,
	"output_hash" text,
	"receipt_digest" text,
	"deadline" numeric(78, 0) NOT NULL,
	"created_at" numeric(78, 0) NOT NULL,
	"created_at_block" numeric(78, 0) NOT NULL,
	"assigned_at" numeric(78, 0),
	"completed_at" numeric(78, 0),
	"updated_at" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "model" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"owner" text NOT NULL,
	"uri" text NOT NULL,
	"job_count" numeric(78, 0) NOT NULL,
	"registered_at" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "network" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"min_stake" numeric(78, 0) NOT NULL,
	"total_stake" numeric(78, 0) NOT NULL,
	"total_pending_unstake" numeric(78, 0) NOT NULL,
	"total_slashed" numeric(78, 0) NOT NULL,
	"provider_count" numeric(78, 0) NOT NULL,
	"active_provider_count" numeric(78, 0) NOT NULL,
	"model_count" numeric(78, 0) NOT NULL,
	"client_count" numeric(78, 0) NOT NULL,
	"job_count" numeric(78, 0) NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"jobs_cancelled" numeric(78, 0) NOT NULL,
	"jobs_expired" numeric(78, 0) NOT NULL,
	"jobs_disputed" numeric(78, 0) NOT NULL,
	"total_payments" numeric(78, 0) NOT NULL,
	"total_fees" numeric(78, 0) NOT NULL,
	"total_refunds" numeric(78, 0) NOT NULL,
	"total_rewards_claimed" numeric(78, 0) NOT NULL,
	"total_funded" numeric(78, 0) NOT NULL,
	"current_epoch" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "provider" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"metadata_uri" text NOT NULL,
	"stake" numeric(78, 0) NOT NULL,
	"pending_unstake" numeric(78, 0) NOT NULL,
	"unlock_at" numeric(78, 0) NOT NULL,
	"slashed_total" numeric(78, 0) NOT NULL,
	"jobs_assigned" numeric(78, 0) NOT NULL,
	"jobs_completed" numeric(78, 0) NOT NULL,
	"jobs_failed" numeric(78, 0) NOT NULL,
	"rewards_earned" numeric(78, 0) NOT NULL,
	"registered_at" numeric(78, 0) NOT NULL,
	"registered_at_block" numeric(78, 0) NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "reward" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"provider" text NOT NULL,
	"kind" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"fee" numeric(78, 0) NOT NULL,
	"job" text,
	"epoch" text NOT NULL,
	"timestamp" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE TABLE "stake_event" (
	"vid" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"provider" text NOT NULL,
	"type" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"stake_after" numeric(78, 0) NOT NULL,
	"pending_unstake_after" numeric(78, 0) NOT NULL,
	"reason" text,
	"timestamp" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL,
	"block_from" bigint NOT NULL,
	"block_to" bigint
);
--> statement-breakpoint
CREATE INDEX "block_hash" ON "block" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "chain_event_name" ON "chain_event" USING btree ("name","block_number");--> statement-breakpoint
CREATE UNIQUE INDEX "client_current" ON "client" USING btree ("id") WHERE "client"."block_to" is null;--> statement-breakpoint
CREATE INDEX "client_id_block" ON "client" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "client_block_from" ON "client" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "client_block_to" ON "client" USING brin ("block_to");--> statement-breakpoint
CREATE UNIQUE INDEX "dispute_current" ON "dispute" USING btree ("id") WHERE "dispute"."block_to" is null;--> statement-breakpoint
CREATE INDEX "dispute_id_block" ON "dispute" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "dispute_block_from" ON "dispute" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "dispute_block_to" ON "dispute" USING brin ("block_to");--> statement-breakpoint
CREATE INDEX "dispute_job" ON "dispute" USING btree ("job");--> statement-breakpoint
CREATE UNIQUE INDEX "epoch_current" ON "epoch" USING btree ("id") WHERE "epoch"."block_to" is null;--> statement-breakpoint
CREATE INDEX "epoch_id_block" ON "epoch" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "epoch_block_from" ON "epoch" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "epoch_block_to" ON "epoch" USING brin ("block_to");--> statement-breakpoint
CREATE UNIQUE INDEX "job_current" ON "job" USING btree ("id") WHERE "job"."block_to" is null;--> statement-breakpoint
CREATE INDEX "job_id_block" ON "job" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "job_block_from" ON "job" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "job_block_to" ON "job" USING brin ("block_to");--> statement-breakpoint
CREATE INDEX "job_client" ON "job" USING btree ("client");--> statement-breakpoint
CREATE INDEX "job_model" ON "job" USING btree ("model");--> statement-breakpoint
CREATE INDEX "job_provider" ON "job" USING btree ("provider");--> statement-breakpoint
CREATE UNIQUE INDEX "model_current" ON "model" USING btree ("id") WHERE "model"."block_to" is null;--> statement-breakpoint
CREATE INDEX "model_id_block" ON "model" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "model_block_from" ON "model" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "model_block_to" ON "model" USING brin ("block_to");--> statement-breakpoint
CREATE UNIQUE INDEX "network_current" ON "network" USING btree ("id") WHERE "network"."block_to" is null;--> statement-breakpoint
CREATE INDEX "network_id_block" ON "network" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "network_block_from" ON "network" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "network_block_to" ON "network" USING brin ("block_to");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_current" ON "provider" USING btree ("id") WHERE "provider"."block_to" is null;--> statement-breakpoint
CREATE INDEX "provider_id_block" ON "provider" USING btree ("id","block_from");--> statement-breakpoint
CREATE INDEX "provider_block_from" ON "provider" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "provider_block_to" ON "provider" USING brin ("block_to");--> statement-breakpoint
CREATE UNIQUE INDEX "reward_current" ON "reward" USING btree ("id") WHERE "reward"."block_to" is null;--> statement-breakpoint
CREATE INDEX "reward_block_from" ON "reward" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "reward_provider" ON "reward" USING btree ("provider");--> statement-breakpoint
CREATE INDEX "reward_job" ON "reward" USING btree ("job");--> statement-breakpoint
CREATE INDEX "reward_epoch" ON "reward" USING btree ("epoch");--> statement-breakpoint
CREATE UNIQUE INDEX "stake_event_current" ON "stake_event" USING btree ("id") WHERE "stake_event"."block_to" is null;--> statement-breakpoint
CREATE INDEX "stake_event_block_from" ON "stake_event" USING brin ("block_from");--> statement-breakpoint
CREATE INDEX "stake_event_provider" ON "stake_event" USING btree ("provider");