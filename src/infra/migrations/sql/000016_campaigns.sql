-- R26, issue 11: campaigns as operators and sellers define them through the API. Global
-- configuration, not a customer's rows (like programme_config_versions): written by a few people,
-- read by every order through an in-process cache (src/app/campaigns/campaign-service.ts).
--
-- A campaign's state is derived from the clock (draft until published; then scheduled, active,
-- ended by its window; ended for good once ended through the API), never stored as such.
create table campaigns (
  campaign_id text primary key,
  -- Who pays its points: 'marketplace' or 'seller:<id>' (a seller's campaign covers only its products).
  funder text not null check (funder = 'marketplace' or funder like 'seller:_%'),
  published_at timestamptz,
  ended_at timestamptz,
  -- The latest version and its window, kept with the campaign so listings filter by state in SQL.
  current_version integer not null check (current_version >= 1),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null
);

-- A seller lists its own campaigns; everyone else lists all of them, by id (time-ordered).
create index campaigns_by_funder on campaigns (funder, campaign_id);

-- Every definition a campaign has had, append-only: a change is a new version, so an order placed at
-- T is evaluated with the version created at or before T, whatever came after.
create table campaign_versions (
  campaign_id text not null references campaigns,
  version integer not null check (version >= 1),
  -- name, conditions (instants in UTC), effect, combinable, budgetPoints: the API's shape.
  definition jsonb not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null check (ends_at >= starts_at),
  created_at timestamptz not null,
  created_by text not null,
  primary key (campaign_id, version)
);

create trigger campaign_versions_append_only before update or delete on campaign_versions
  for each row execute function kopilka_forbid_change();
