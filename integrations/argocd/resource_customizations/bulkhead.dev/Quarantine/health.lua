-- Argo CD health check for bulkhead.dev/Quarantine (Bulkhead ADR 1603).
-- A Quarantine is the engine's record of one action on one pod
-- (engine/src/quarantine/executor.ts, release.ts; audit/outbox.ts): status.phase Pending ->
-- Isolated -> Released, status.audit, and conditions Ready (the last step), IsolationIncomplete
-- and RecordsPushed. A quarantined pod is the engine working, not the engine failing, so:
--   DryRun                                 -> Healthy (it records what it would do; nothing held)
--   Enforce, no phase yet or Pending       -> Progressing (isolation under way)
--   Isolated                               -> Suspended (a pod held out of service, waiting for a
--                                             person to release it; visible, not an alarm)
--   Isolated, StatefulSet pod replaced     -> Healthy (snapshot kept; the StatefulSet's new pod serves)
--   Released                               -> Healthy
--   IsolationIncomplete=True               -> Degraded (an allow policy still reaches the pod)
--   RecordsPushed=False                    -> Degraded (the audit record does not reach git)
-- Phase, not observedGeneration: the engine itself edits the spec (the actions it took) after
-- the status it wrote, so a generation comparison would read a finished quarantine as pending.
-- Written for Argo CD's default VM for argocd-cm scripts: base and table only, no string.*.
local hs = {}
local spec = obj.spec or {}
local status = obj.status or {}
local pod = (spec.pod and spec.pod.name) or "?"
local why = "policy " .. (spec.policy or "?") .. ", " .. (spec.reason or "?")

local function condition(kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local pushed = condition("RecordsPushed")
if pushed ~= nil and pushed.status == "False" then
  hs.status = "Degraded"
  hs.message = "Audit record of pod " .. pod .. " not pushed to git: " .. (pushed.reason or "") .. ": "
    .. (pushed.message or "")
  return hs
end
local incomplete = condition("IsolationIncomplete")
if status.phase == "Isolated" and incomplete ~= nil and incomplete.status == "True" then
  hs.status = "Degraded"
  hs.message = "Pod " .. pod .. " is not fully isolated: " .. (incomplete.message or "")
  return hs
end

if spec.mode == "DryRun" then
  hs.status = "Healthy"
  hs.message = "DryRun: would have acted on pod " .. pod .. " (" .. why .. "); nothing was done"
  return hs
end
if status.phase == "Released" then
  hs.status = "Healthy"
  hs.message = "Pod " .. pod .. " released at " .. (status.releasedAt or "?")
  return hs
end
if status.phase == "Isolated" then
  if spec.actions ~= nil then
    for _, a in ipairs(spec.actions) do
      if a.type == "Replace" then
        hs.status = "Healthy"
        hs.message = "Pod " .. pod .. " snapshotted and replaced by its StatefulSet (" .. why .. ")"
        return hs
      end
    end
  end
  local audit = status.audit or {}
  hs.status = "Suspended"
  hs.message = "Pod " .. pod .. " held out of service (" .. why .. "); audit record "
    .. (audit.state or "Pending")
  if audit.state == "Committed" and audit.path ~= nil then
    hs.message = hs.message .. "; release it by removing " .. audit.path .. " in git"
  end
  return hs
end
hs.status = "Progressing"
hs.message = "Isolating pod " .. pod .. " (" .. why .. ")"
return hs
