-- Accounts: sessions with rotating refresh tokens, the audit log, and the per-transaction entry
-- check that every request runs through (app_enter).

alter table users add column last_sign_in_at timestamptz;

create function role_rank(p_role text) returns integer
  language sql immutable
  as $$ select case p_role when 'owner' then 3 when 'admin' then 2 when 'member' then 1 else 0 end $$;

-- A sign-in: one family of refresh tokens. Revoking the session revokes the family.
create table sessions (
  id              uuid primary key default gen_random_uuid(),
  user_id         uuid not null references users (id) on delete cascade,
  product_context text,
  ip              text,
  user_agent      text,
  revoked_at      timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1
);
create index sessions_user_idx on sessions (user_id);
create trigger sessions_touch before update on sessions for each row execute function touch_row();
alter table sessions enable row level security;
alter table sessions force row level security;
create policy sessions_owner on sessions
  using (user_id = app_user_id() or app_is_platform_admin())
  with check (user_id = app_user_id() or app_is_platform_admin());

-- Refresh tokens are stored as SHA-256 hex only; each is used once, then replaced.
create table refresh_tokens (
  id          uuid primary key default gen_random_uuid(),
  session_id  uuid not null references sessions (id) on delete cascade,
  user_id     uuid not null references users (id) on delete cascade,
  token_hash  text not null check (token_hash ~ '^[0-9a-f]{64}$'),
  expires_at  timestamptz not null,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz not null default now()
);
create unique index refresh_tokens_hash_key on refresh_tokens (token_hash);
create index refresh_tokens_session_idx on refresh_tokens (session_id);
alter table refresh_tokens enable row level security;
alter table refresh_tokens force row level security;
create policy refresh_tokens_owner on refresh_tokens
  using (user_id = app_user_id() or app_is_platform_admin())
  with check (user_id = app_user_id() or app_is_platform_admin());

-- Who did what: sign-ins, sign-ups, role changes, removals, platform-admin access, token reuse.
create table audit_log (
  id              uuid primary key default gen_random_uuid(),
  organization_id uuid references organizations (id) on delete cascade,
  user_id         uuid,
  action          text not null,
  target_user_id  uuid,
  details         jsonb not null default '{}'::jsonb,
  ip              text,
  created_at      timestamptz not null default now()
);
create index audit_log_org_idx on audit_log (organization_id, created_at desc);
alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_read on audit_log for select
  using (organization_id = app_org_id() or app_is_platform_admin());
create policy audit_write on audit_log for insert
  with check (organization_id = app_org_id() or app_is_platform_admin()
              or (organization_id is null and user_id = app_user_id()));

-- Every transaction starts here: sets the tenant scope, honours a platform-admin request only
-- for a user who is one (and audits it), and checks the caller's membership role in the same
-- transaction as the work, so a removed or demoted user loses access at once.
-- Returns 'ok', 'not_admin', 'not_member' or 'forbidden_role'.
create function app_enter(p_org text, p_user text, p_admin boolean, p_role text)
  returns text
  language plpgsql
  as $$
declare
  member_role text;
  is_admin boolean;
begin
  perform set_config('app.org_id', coalesce(p_org, ''), true);
  perform set_config('app.user_id', coalesce(p_user, ''), true);
  perform set_config('app.platform_admin', 'off', true);
  if p_admin then
    select u.is_platform_admin into is_admin from users u where u.id = app_user_id();
    if not coalesce(is_admin, false) then
      return 'not_admin';
    end if;
    perform set_config('app.platform_admin', 'on', true);
    insert into audit_log (organization_id, user_id, action)
      values (app_org_id(), app_user_id(), 'platform_admin_access');
    return 'ok';
  end if;
  if coalesce(p_role, '') <> '' then
    select m.role into member_role from organization_members m
      where m.organization_id = app_org_id() and m.user_id = app_user_id();
    if member_role is null then
      return 'not_member';
    end if;
    if role_rank(member_role) < role_rank(p_role) then
      return 'forbidden_role';
    end if;
  end if;
  return 'ok';
end $$;

-- The narrow SECURITY DEFINER doors of sign-in. Each switches on app.platform_admin for its own
-- fixed statements only and restores the caller's value before returning.

create function auth_user_for_login(p_email text)
  returns table (id uuid, password_hash text)
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query select u.id, u.password_hash from users u where u.email = lower(p_email);
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

-- The caller's memberships (app.user_id), across organizations.
create function user_organizations()
  returns table (id uuid, slug text, name text, product_context text, role text,
                 joined_at timestamptz)
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query
    select o.id, o.slug, o.name, o.product_context, m.role, m.created_at
      from organization_members m join organizations o on o.id = m.organization_id
     where m.user_id = app_user_id()
     order by m.created_at, o.slug;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

-- Members of the current organization (app.org_id) with their emails.
create function organization_member_list()
  returns table (id uuid, organization_id uuid, user_id uuid, email text, role text,
                 created_at timestamptz, updated_at timestamptz, version bigint)
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query
    select m.id, m.organization_id, m.user_id, u.email, m.role, m.created_at, m.updated_at,
           m.version
      from organization_members m join users u on u.id = m.user_id
     where m.organization_id = app_org_id()
     order by m.created_at, u.email;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

create function user_id_by_email(p_email text)
  returns uuid
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  found uuid;
begin
  perform set_config('app.platform_admin', 'on', true);
  select u.id into found from users u where u.email = lower(p_email);
  perform set_config('app.platform_admin', caller_admin, true);
  return found;
end $$;

-- Rotates a refresh token: the presented one is used up and a new one joins its family. A token
-- presented a second time means it was stolen or replayed: the whole family is revoked.
-- Returns ('ok' | 'invalid' | 'reused', user_id, session_id).
create function auth_rotate_refresh_token(p_old_hash text, p_new_hash text, p_ttl_s integer)
  returns table (status text, user_id uuid, session_id uuid)
  language plpgsql volatile security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  t refresh_tokens%rowtype;
  session_revoked timestamptz;
begin
  perform set_config('app.platform_admin', 'on', true);
  select * into t from refresh_tokens r where r.token_hash = p_old_hash for update;
  if not found then
    perform set_config('app.platform_admin', caller_admin, true);
    return query select 'invalid'::text, null::uuid, null::uuid;
    return;
  end if;
  select s.revoked_at into session_revoked from sessions s where s.id = t.session_id;
  if t.revoked_at is not null or session_revoked is not null or t.expires_at <= now() then
    perform set_config('app.platform_admin', caller_admin, true);
    return query select 'invalid'::text, t.user_id, t.session_id;
    return;
  end if;
  if t.used_at is not null then
    update refresh_tokens r set revoked_at = now()
      where r.session_id = t.session_id and r.revoked_at is null;
    update sessions s set revoked_at = now() where s.id = t.session_id;
    insert into audit_log (organization_id, user_id, action, details)
      values (null, t.user_id, 'refresh_token_reuse', jsonb_build_object('session_id', t.session_id));
    perform set_config('app.platform_admin', caller_admin, true);
    return query select 'reused'::text, t.user_id, t.session_id;
    return;
  end if;
  update refresh_tokens r set used_at = now() where r.id = t.id;
  insert into refresh_tokens (session_id, user_id, token_hash, expires_at)
    values (t.session_id, t.user_id, p_new_hash, now() + make_interval(secs => p_ttl_s));
  perform set_config('app.platform_admin', caller_admin, true);
  return query select 'ok'::text, t.user_id, t.session_id;
end $$;
