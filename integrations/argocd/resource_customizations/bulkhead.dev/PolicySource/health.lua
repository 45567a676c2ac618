-- Argo CD health check for bulkhead.dev/PolicySource (Bulkhead ADR 1603).
-- The sync's summarizer writes Ready, Reconciling and Stalled with observedGeneration, Flux
-- style (engine/src/apply/status.ts, ADR 0200, 1602); the audit loop writes RecordsPushed on the
-- source its records go to (engine/src/audit/push-conditions.ts).
--   spec.suspend                          -> Suspended
--   Stalled=True                          -> Degraded (the source itself must change)
--   Ready=False                           -> Degraded, whether or not it is retried: the revision
--                                            in git is not the one in force, and Argo CD has no
--                                            deadline that would turn an endless Progressing into
--                                            a failure
--   Ready=True, RecordsPushed=False       -> Degraded (quarantine records do not reach git)
--   Ready=True at this generation         -> Healthy
--   no status yet, Ready=Unknown, or a status of an older generation -> Progressing
-- Written for Argo CD's default VM for argocd-cm scripts: base and table only, no string.*.
local hs = {}
local generation = obj.metadata.generation or 0

local function condition(status, kind)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function describe(c)
  if c.reason == nil then
    return c.message or ""
  end
  return c.reason .. ": " .. (c.message or "")
end

if obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Suspended (spec.suspend); serving revision "
    .. ((obj.status and obj.status.lastAppliedRevision) or "none")
  return hs
end

local ready = condition(obj.status, "Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Bulkhead engine's first sync of generation " .. generation
  return hs
end
local observed = ready.observedGeneration or obj.status.observedGeneration
if observed == nil or observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Bulkhead engine to sync generation " .. generation
    .. " (status describes generation " .. tostring(observed) .. ")"
  return hs
end

local stalled = condition(obj.status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = "Stalled, the source must change: " .. describe(ready)
  return hs
end
if ready.status == "False" then
  local reconciling = condition(obj.status, "Reconciling")
  hs.status = "Degraded"
  hs.message = describe(ready)
  if reconciling ~= nil and reconciling.status == "True" then
    hs.message = hs.message .. " (retrying: " .. (reconciling.message or "") .. ")"
  end
  return hs
end
if ready.status ~= "True" then
  hs.status = "Progressing"
  hs.message = describe(ready)
  return hs
end

local pushed = condition(obj.status, "RecordsPushed")
if pushed ~= nil and pushed.status == "False" then
  hs.status = "Degraded"
  hs.message = "Policies applied, but quarantine records are not pushed: " .. describe(pushed)
  return hs
end
hs.status = "Healthy"
hs.message = ready.message or ""
return hs
