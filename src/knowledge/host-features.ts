/**
 * What a host may lack that an input needs to be of any use (a playbook's `inputs.NAME.needs`):
 * `systemd` running as init (PID 1), without which no unit can be asked about. An input whose
 * needs the host lacks is not asked for.
 */
export const HOST_FEATURES = ['systemd'] as const;
export type HostFeature = (typeof HOST_FEATURES)[number];

/** Why an input that needs the feature is not asked for, in words. */
export const MISSING_FEATURE: Readonly<Record<HostFeature, string>> = {
  systemd: 'systemd does not run on this host (PID 1 is another init), so no unit can be looked at',
};
