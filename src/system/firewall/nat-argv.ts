/** The commands that read the nat rules (nft's whole ruleset as JSON, iptables' nat tables), in one place for the reader and the ssh preload. */
export const NAT_READ_ARGV: readonly (readonly string[])[] = [['nft', '-j', 'list', 'ruleset'], ['iptables-save', '-t', 'nat'], ['ip6tables-save', '-t', 'nat']];
