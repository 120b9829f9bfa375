import { describe, expect, it } from 'vitest';
import { containerOfCgroup } from '../../src/analysis/container.js';
import { fixture } from '../system/firewall/fixtures.js';

// Real /proc/PID/cgroup texts: public quotes for the runtimes that do not run here, captures for
// nspawn (test/fixtures/cgroup/SOURCES.md says which is which).
const cgroup = (name: string) => containerOfCgroup(fixture('cgroup', name));

describe('containerOfCgroup: Docker', () => {
  it('the systemd driver: docker-<id>.scope, the same id on every controller', () => {
    expect(cgroup('docker-v1-systemd-scope.txt')).toEqual({
      runtime: 'docker',
      id: 'b33dda97580e721a69fa81742190341f858ea809ec4a9d74a8cfd411b0ee7c26',
      cgroup: '/system.slice/docker-b33dda97580e721a69fa81742190341f858ea809ec4a9d74a8cfd411b0ee7c26.scope',
    });
  });

  it('a hybrid host: the v1 lines name the container even though the v2 line says containerd.service', () => {
    expect(cgroup('docker-v1-cgroupfs-hybrid.txt')).toEqual({
      runtime: 'docker',
      id: '2403ccfe427f1dc7b6120dccb9ac58c2f8456950380d587a9f33ea7f00dd303d',
      cgroup: '/docker/2403ccfe427f1dc7b6120dccb9ac58c2f8456950380d587a9f33ea7f00dd303d',
    });
  });

  it('the cgroupfs driver with name=systemd at the root: the controllers that name the container decide', () => {
    expect(cgroup('docker-v1-cgroupfs-name-systemd-root.txt')).toMatchObject({ runtime: 'docker', id: '5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498' });
  });
});

describe('containerOfCgroup: Podman and its monitor', () => {
  it("crun's container sub-cgroup under a user manager's machine.slice", () => {
    expect(cgroup('podman-v2-under-user-manager.txt')).toEqual({
      runtime: 'podman',
      id: 'cf21d19260ace8544fe8b769fc2638bf2c0873dfbfff0b6253f0569b26a1d5eb',
      cgroup: '/user.slice/user-0.slice/user@0.service/machine.slice/libpod-cf21d19260ace8544fe8b769fc2638bf2c0873dfbfff0b6253f0569b26a1d5eb.scope/container',
    });
  });

  it('a systemd container on cgroup v1 (name=systemd ends in init.scope)', () => {
    expect(cgroup('podman-v1-systemd-in-container.txt')).toEqual({
      runtime: 'podman',
      id: '2521e906f0a0c758c3a7dc4fd68c197e32e96abb4b36807d0b0ede6d014a7c24',
      cgroup: '/machine.slice/libpod-2521e906f0a0c758c3a7dc4fd68c197e32e96abb4b36807d0b0ede6d014a7c24.scope/init.scope',
    });
  });

  it('conmon is not the container it watches', () => {
    expect(cgroup('crio-conmon-v1.txt')).toBeUndefined();
  });
});

describe('containerOfCgroup: Kubernetes pods', () => {
  it('containerd, systemd driver: the pod UID with its dashes back, the engine, the container id', () => {
    expect(cgroup('kubernetes-containerd-v1-systemd.txt')).toEqual({
      runtime: 'kubernetes',
      id: '35c6b5574bc50507e0b8535bb826e39c4cc0b8dd587930b0947d86239eb0f0a9',
      pod: 'cfbe1789-8da4-4a1d-9fa1-f49a2be9eef5',
      engine: 'containerd',
      cgroup: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podcfbe1789_8da4_4a1d_9fa1_f49a2be9eef5.slice/cri-containerd-35c6b5574bc50507e0b8535bb826e39c4cc0b8dd587930b0947d86239eb0f0a9.scope',
    });
  });

  it("containerd's slice:prefix:id form, with and without a QoS class", () => {
    expect(cgroup('kubernetes-containerd-v1-colon.txt')).toMatchObject({
      runtime: 'kubernetes',
      id: 'ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459',
      pod: '0125ec2f-b64a-4868-8f5b-94b56cbab864',
      engine: 'containerd',
    });
    expect(cgroup('kubernetes-containerd-guaranteed-colon.txt')).toMatchObject({
      runtime: 'kubernetes',
      id: '05c48c82caff3be3d7f1e896981dd410e81487538936914f32b624d168de9db0',
      pod: '87a18a64-b74a-454a-b10b-a4a36059d0a3',
      engine: 'containerd',
    });
  });

  it('CRI-O and cri-dockerd', () => {
    expect(cgroup('kubernetes-crio-v1.txt')).toMatchObject({ runtime: 'kubernetes', id: '00601ecc8806271163e6f8e8456d1614817bc5e6d7fa19025fea6fb0b373e7bb', pod: 'ef16c429-a6ae-4674-a08e-848717fd4555', engine: 'cri-o' });
    expect(cgroup('kubernetes-docker-v1-systemd.txt')).toMatchObject({ runtime: 'kubernetes', id: 'ca0587256640e2964fb4656da0d99828966f90ba96a29a650860e0ca63e8eced', pod: '82f40de6-1226-4577-ab35-2f378b9f5e49', engine: 'docker' });
  });

  it('the cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>, engine unknown', () => {
    expect(cgroup('kubernetes-v1-cgroupfs.txt')).toEqual({
      runtime: 'kubernetes',
      id: 'd28e0087cf8f3f0429f755d60b0de415b20fcf76736ded7bab6e30e7b739ee36',
      pod: '9a18ffb8-8513-11e7-b26e-7e29fbe2a5a3',
      cgroup: '/kubepods/besteffort/pod9a18ffb8-8513-11e7-b26e-7e29fbe2a5a3/d28e0087cf8f3f0429f755d60b0de415b20fcf76736ded7bab6e30e7b739ee36',
    });
  });
});

describe('containerOfCgroup: LXC', () => {
  it('lxc.payload/<name>, lxc.payload.<name> and the old /lxc/<name>', () => {
    expect(cgroup('lxc-payload.txt')).toEqual({ runtime: 'lxc', name: 'example', cgroup: '/lxc.payload/example/init.scope' });
    expect(cgroup('lxc-v2-flat.txt')).toEqual({ runtime: 'lxc', name: 'focal', cgroup: '/lxc.payload.focal/system.slice/avahi-daemon.service' });
    expect(cgroup('lxc-v1-privileged.txt')).toMatchObject({ runtime: 'lxc', name: 'privileged-container' });
  });

  it("the container's monitor is not in it", () => {
    expect(cgroup('lxc-monitor.txt')).toBeUndefined();
  });
});

describe('containerOfCgroup: systemd-nspawn (captured here)', () => {
  it('an nspawn that made no unit: payload at the root, no name', () => {
    expect(cgroup('nspawn-unregistered-init.txt')).toEqual({ runtime: 'nspawn', cgroup: '/payload/init.scope' });
    expect(cgroup('nspawn-unregistered-service.txt')).toEqual({ runtime: 'nspawn', cgroup: '/payload/system.slice/systemd-journald.service' });
    expect(cgroup('nspawn-unregistered-supervisor.txt')).toBeUndefined();
  });

  it('a registered machine: machine-<name>.scope, with systemd\'s \\x2d escapes undone; the innermost of two nested containers', () => {
    expect(cgroup('nspawn-machine-scope.txt')).toEqual({ runtime: 'nspawn', name: 'wptinner', cgroup: '/payload/machine.slice/machine-wptinner.scope/payload' });
    expect(cgroup('nspawn-machine-scope-escaped.txt')).toMatchObject({ runtime: 'nspawn', name: 'wpt-inner-2' });
  });

  it('systemd-nspawn@<name>.service; its supervisor runs in the outer container, not in <name>', () => {
    expect(cgroup('nspawn-template-service.txt')).toEqual({ runtime: 'nspawn', name: 'wptsvc', cgroup: '/payload/machine.slice/systemd-nspawn@wptsvc.service/payload' });
    expect(cgroup('nspawn-template-supervisor.txt')).toEqual({ runtime: 'nspawn', cgroup: '/payload/machine.slice/systemd-nspawn@wptsvc.service/supervisor' });
  });
});

describe('containerOfCgroup: not in a container, or cannot tell', () => {
  it("a host process, and a container's own view through its cgroup namespace", () => {
    expect(cgroup('host-process.txt')).toBeUndefined();
    expect(cgroup('nspawn-inside-view.txt')).toBeUndefined();
    expect(containerOfCgroup('')).toBeUndefined();
  });
});
