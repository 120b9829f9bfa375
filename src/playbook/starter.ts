/**
 * The playbook `whyport playbook new NAME` writes: the seed chain for one application (does its
 * port listen, and where? does its process run? what does systemd say of its unit?), commented
 * so that it reads as a guide, with the generic checks shown as commented steps to adapt. It is
 * a valid playbook as written: `whyport 127.0.0.1 PORT --playbook NAME.yaml` runs it.
 */

/** What a playbook name may be: it becomes the file name and the prefix of its diagnosis codes. */
export const PLAYBOOK_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** The line that points yaml-language-server at the schema `whyport playbook schema` prints, saved beside the playbook. */
export const SCHEMA_MODELINE = '# yaml-language-server: $schema=./playbook.schema.json';

/** The text of a new playbook for the application NAME (already checked against PLAYBOOK_NAME). */
export function starterPlaybook(name: string): string {
  const app = name;
  const CODE = name.toUpperCase().replace(/-/g, '_');
  return `${SCHEMA_MODELINE}
#
# ${name}: why can't I reach ${app} on its port? Written by \`whyport playbook new ${name}\`, to adapt.
#
# Each step runs one check and \`on:\` says where each of its outcomes leads: to another step
# (lower-case) or to a diagnosis (UPPER_CASE, written under \`diagnoses:\` below). Every outcome
# must lead somewhere; \`else:\` takes the ones not named. \`whyport checks\` lists the checks, their
# parameters, outcomes and evidence fields (\`{{ steps.STEP.evidence.FIELD }}\`).
#
#   whyport playbook validate ${name}.yaml             every problem, with file:line:col
#   whyport playbook graph ${name}.yaml --format text  the chain, drawn in the terminal
#   whyport 127.0.0.1 PORT --playbook ${name}.yaml     run it (--ssh HOST to run it on a server)
#
# For completion in your editor, save the schema beside this file (the first line points at it):
#   whyport playbook schema > playbook.schema.json
version: 2
name: ${name}
description: Is ${app} serving on its port? Its sockets, its process, its systemd unit.

# What the steps need to know, answered by the ask steps below.
inputs:
  process:
    description: The program that should be listening.
    prompt: Which program should be listening on port {{ target.port }}?
    flag: --process
    default: ${app}
  service:
    description: Its systemd unit.
    prompt: Which systemd service runs it?
    flag: --service
    default: ${app}
    # Where systemd does not run there is no unit to look at: its step takes \`unknown\`.
    needs: [systemd]

steps:
  # Every socket on the port, listening or not: is it served, and is the program keeping up?
  sockets:
    check: sockets
    with: { port: "{{ target.port }}" }
    on:
      listening, close-wait-leak: listeners
      accept-queue-full: ${CODE}_OVERLOADED
      none, recent: which-process
      error: INCONCLUSIVE

  # It listens: on an address the clients can reach?
  listeners:
    check: listeners
    with: { port: "{{ target.port }}", host: "{{ target.host }}" }
    on:
      covers: REACHABLE
      loopback-only, other-address: ${CODE}_WRONG_ADDRESS
      none, error: INCONCLUSIVE

  # Nothing listens. Which program should? An ask step: --process, else asked at a terminal
  # (the default offered), else the default.
  which-process:
    ask: process
    on:
      given: process
      unknown: which-service

  # Is it running at all?
  process:
    check: process
    with: { name: "{{ inputs.process }}" }
    on:
      running: ${CODE}_NOT_LISTENING
      not-running: which-service

  # It is not running. Which systemd unit runs it? (Not asked where systemd does not run.)
  which-service:
    ask: service
    on:
      given: unit
      unknown: ${CODE}_NOT_RUNNING

  # What does systemd say of it, and why?
  unit:
    check: unit
    with: { unit: "{{ inputs.service }}" }
    on:
      failed: ${CODE}_FAILED
      inactive, activating: ${CODE}_STOPPED
      active, not-found, no-systemd, error: ${CODE}_NOT_RUNNING

  # ── Checks of your own application ───────────────────────────────────────────
  # Uncomment and adapt; lead an outcome above to them (\`running: config\`, say). Their parameters
  # and outcomes are those \`whyport checks\` lists.
  #
  # Does its configuration pass its own test? A program's argv, never a shell.
  # config:
  #   check: command
  #   with: { argv: [${app}, --check-config], timeout: 5000 }
  #   on:
  #     ok: ${CODE}_NOT_LISTENING
  #     failed: ${CODE}_BAD_CONFIG
  #     else: INCONCLUSIVE
  #
  # Is its pidfile there, and its process alive?
  # pidfile:
  #   check: file
  #   with: { path: /run/${app}.pid, pidfile: true }
  #   on:
  #     ok: unit
  #     else: ${CODE}_STALE_PIDFILE
  #
  # Does what it depends on answer? whyport's own chain (the default playbook), walked for db:5432 from here.
  # database:
  #   check: endpoint
  #   with: { host: db, port: 5432, playbook: default }
  #   on:
  #     reachable: REACHABLE
  #     else: ${CODE}_NO_DATABASE
  #
  # Does it answer HTTP as it should?
  # health:
  #   check: http
  #   with: { url: "http://{{ target.host }}:{{ target.port }}/health", status: 200 }
  #   on:
  #     ok: REACHABLE
  #     else: ${CODE}_UNHEALTHY

diagnoses:
  REACHABLE:
    title: ${app} listens on port {{ target.port }} where clients connect
    explanation: "{{ steps.listeners.summary }}."
    evidence: ["{{ steps.sockets.summary }}"]

  ${CODE}_WRONG_ADDRESS:
    title: ${app} listens, but not on an address the clients reach
    explanation: >
      {{ steps.listeners.summary }}. Set the address ${app} listens on in its configuration
      (0.0.0.0, or the address the clients use), then restart it.
    fix:
      summary: Restart ${app} once its listen address is fixed
      apply: false
      commands:
        - systemctl restart {{ inputs.service }}

  ${CODE}_OVERLOADED:
    title: ${app} listens on port {{ target.port }}, but has stopped accepting connections
    explanation: >
      Its accept queue is full: {{ steps.sockets.evidence.acceptQueue.detail }}. The program is
      hung or far too slow for its load. Restarting it empties the queue; its log says why.
    fix:
      summary: Restart ${app} (then read journalctl -u {{ inputs.service }})
      commands:
        - systemctl restart {{ inputs.service }}

  ${CODE}_NOT_LISTENING:
    code: NOT_LISTENING
    title: ${app} runs, but nothing listens on port {{ target.port }}
    explanation: >
      {{ steps.process.summary }}, yet no socket listens on port {{ target.port }}. It may still be
      starting, listen on another port, or have failed to bind: look at its log.
    evidence: ["{{ steps.sockets.summary }}"]

  ${CODE}_FAILED:
    code: SERVICE_FAILED
    title: "{{ steps.unit.evidence.headline | default(\\"${app} has failed\\") }}"
    explanation: >
      {{ steps.unit.evidence.story }}, so nothing serves port {{ target.port }}. The lines below
      say why: fix that first, then start it again.
    evidence: ["{{ steps.unit.evidence.journal }}"]
    fix:
      summary: Start ${app} again once the cause is fixed
      commands:
        - systemctl start {{ steps.unit.evidence.startUnit }}

  ${CODE}_STOPPED:
    code: SERVICE_INACTIVE
    title: "{{ steps.unit.evidence.unit }} is stopped"
    explanation: >
      {{ steps.unit.summary }}: nothing listens on port {{ target.port }} until it runs (is it
      enabled at boot?).
    fix:
      summary: Start ${app} (and enable it at boot with systemctl enable)
      commands:
        - systemctl start {{ steps.unit.evidence.startUnit }}

  ${CODE}_NOT_RUNNING:
    code: NOT_LISTENING
    title: ${app} is not running
    explanation: >
      Nothing listens on port {{ target.port }} and {{ inputs.process | default("${app}") }} is not
      running: {{ last.summary }}. Start ${app} the way this machine starts it.
    evidence: ["{{ steps.sockets.summary }}"]

  # ${CODE}_BAD_CONFIG:
  #   title: ${app}'s configuration does not pass its own test
  #   explanation: "{{ steps.config.summary }}."
  #   evidence: ["{{ steps.config.evidence.output }}"]
  #
  # ${CODE}_STALE_PIDFILE:
  #   title: ${app}'s pidfile is missing or names a process that is gone
  #   explanation: "{{ steps.pidfile.summary }}."
  #
  # ${CODE}_NO_DATABASE:
  #   from: database
  #   title: "${app} is up, but cannot reach its database: {{ steps.database.evidence.title }}"
  #
  # ${CODE}_UNHEALTHY:
  #   title: ${app} answers, but its health check fails
  #   explanation: "{{ steps.health.summary }}."

  INCONCLUSIVE:
    title: whyport could not tell what serves port {{ target.port }}
    explanation: "{{ last.summary }}."
`;
}
