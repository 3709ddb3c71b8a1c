DROP INDEX "client_id_block";--> statement-breakpoint
DROP INDEX "dispute_id_block";--> statement-breakpoint
DROP INDEX "dispute_job";--> statement-breakpoint
DROP INDEX "epoch_id_block";--> statement-breakpoint
DROP INDEX "job_id_block";--> statement-breakpoint
DROP INDEX "job_client";--> statement-breakpoint
DROP INDEX "job_model";--> statement-breakpoint
DROP INDEX "job_provider";--> statement-breakpoint
DROP INDEX "model_id_block";--> statement-breakpoint
DROP INDEX "network_id_block";--> statement-breakpoint
DROP INDEX "provider_id_block";--> statement-breakpoint
DROP INDEX "reward_provider";--> statement-breakpoint
DROP INDEX "reward_job";--> statement-breakpoint
DROP INDEX "reward_epoch";--> statement-breakpoint
DROP INDEX "stake_event_provider";--> statement-breakpoint
CREATE INDEX "client_id_block_to" ON "client" USING btree ("id","block_to") WHERE "client"."block_to" is not null;--> statement-breakpoint
CREATE INDEX "dispute_id_block_to" ON "dispute" USING btree ("id","block_to") WHERE "dispute"."block_to" is not null;--> statement-breakpoint
CREATE INDEX "epoch_id_block_to" ON "epoch" USING btree ("id","block_to") WHERE "epoch"."block_to" is not null;--> statement-breakpoint
CREATE INDEX "job_id_block_to" ON "job" USING btree ("id","block_to") WHERE "job"."block_to" is not null;--> statement-breakpoint
CREATE INDEX "model_id_block_to" ON "model" USING btree ("id","block_to") WHERE "model"."block_to" is not null;--> statement-breakpoint
CREATE INDEX "network_id_block_to" ON "network" USING btree ("id","block_to") WHERE "network"."block_to" is not null;--> statement-breakpoint
CREATE INDEX "provider_id_block_to" ON "provider" USING btree ("id","block_to") WHERE "provider"."block_to" is not null;