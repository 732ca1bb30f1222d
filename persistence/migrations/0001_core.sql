-- Core schema: users, organizations, memberships, and the row-level-security pattern that every
-- tenant table follows (DESIGN.md, "Persistence").
--
-- Tenant isolation: each transaction first sets app.org_id / app.user_id / app.platform_admin with
-- set_config(..., true). After a session once set a value, current_setting(..., true) returns ''
-- rather than NULL, hence nullif(..., '').

create function app_org_id() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.org_id', true), '')::uuid $$;

create function app_user_id() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

create function app_is_platform_admin() returns boolean
  language sql stable
  as $$ select coalesce(current_setting('app.platform_admin', true), '') = 'on' $$;

-- Keeps updated_at and version current on every update (optimistic concurrency uses version).
create function touch_row() returns trigger
  language plpgsql
  as $$
begin
  new.updated_at := now();
  new.version := old.version + 1;
  return new;
end $$;

create table users (
  id              uuid primary key default gen_random_uuid(),
  email           text not null check (email = lower(email) and length(email) between 3 and 320),
  password_hash   text not null,
  user_metadata   jsonb not null default '{}'::jsonb,
  app_metadata    jsonb not null default '{}'::jsonb,
  is_platform_admin boolean not null default false,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1
);
create unique index users_email_key on users (email);
create trigger users_touch before update on users for each row execute function touch_row();

-- A user sees their own row; platform admins see all. Sign-in looks users up through a
-- SECURITY DEFINER function (Accounts), never by widening this policy.
alter table users enable row level security;
alter table users force row level security;
create policy users_self on users
  using (id = app_user_id() or app_is_platform_admin())
  with check (id = app_user_id() or app_is_platform_admin());

create table organizations (
  id                uuid primary key default gen_random_uuid(),
  product_context   text not null check (product_context in ('tipjar', 'djdash', 'm10dj')),
  name              text not null check (length(name) between 1 and 200),
  slug              text not null check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
  owner_id          uuid references users (id),
  sms_number        text check (sms_number ~ '^\+[1-9][0-9]{6,14}$'),
  timezone          text not null default 'America/Chicago',
  settings          jsonb not null default '{}'::jsonb,
  stripe_connect_account_id text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  version           bigint not null default 1
);
create unique index organizations_slug_key on organizations (slug);
create unique index organizations_sms_number_key on organizations (sms_number)
  where sms_number is not null;
create trigger organizations_touch before update on organizations
  for each row execute function touch_row();

-- The organization is its own tenant: id plays the role of organization_id.
alter table organizations enable row level security;
alter table organizations force row level security;
create policy org_isolation on organizations
  using (id = app_org_id() or app_is_platform_admin())
  with check (id = app_org_id() or app_is_platform_admin());

create table organization_members (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  user_id         uuid not null references users (id) on delete cascade,
  role            text not null check (role in ('owner', 'admin', 'member')),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  unique (organization_id, user_id)
);
create index organization_members_user_idx on organization_members (user_id);
create trigger organization_members_touch before update on organization_members
  for each row execute function touch_row();

alter table organization_members enable row level security;
alter table organization_members force row level security;
create policy org_isolation on organization_members
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- Public lookups go through narrow SECURITY DEFINER functions that return public fields only.
-- They run as the owner, which FORCE ROW LEVEL SECURITY still restricts, so each one switches on
-- app.platform_admin around its own fixed query and restores the caller's value afterwards (an
-- error aborts the transaction, or the savepoint, which reverts the setting too).
create function public_organization_by_slug(p_slug text)
  returns table (id uuid, slug text, name text, product_context text)
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query select o.id, o.slug, o.name, o.product_context
                 from organizations o where o.slug = p_slug;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

create function organization_id_by_sms_number(p_number text)
  returns uuid
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  found_id uuid;
begin
  perform set_config('app.platform_admin', 'on', true);
  select o.id into found_id from organizations o where o.sms_number = p_number;
  perform set_config('app.platform_admin', caller_admin, true);
  return found_id;
end $$;
