/**
 * Link-layer header types. A capture file stores a LINKTYPE_* value; libpcap hands programs a DLT_*
 * value (what `pcap_open_dead` and `pcap_compile` take). The two agree from 104 upwards and for the
 * oldest BSD types (0..10), but a handful of types got different DLT numbers on different systems,
 * so files carry a portable LINKTYPE and libpcap maps it to the local DLT when reading. The DLT values
 * here are Linux's, which is where the project's libpcap runs.
 *
 * Names are what `pcap_datalink_val_to_name` returns (without "DLT_"). Entries flagged `newer` carry
 * names that libpcap 1.10.3 does not know (they come from later libpcap releases), so compiling a
 * filter for them with the installed libpcap fails.
 */

export interface LinkTypeInfo {
  /** LINKTYPE_* value, as stored in pcap/pcapng files. */
  readonly linkType: number;
  /** DLT_* value on Linux, as returned by pcap_datalink() for a file of this link type. */
  readonly dlt: number;
  /** pcap_datalink_val_to_name() without the "DLT_" prefix. */
  readonly name: string;
  /** A short human description (our wording). */
  readonly description: string;
  /** Other names libpcap accepts for the same DLT (older or newer spellings). */
  readonly aliases?: readonly string[];
  /** True when libpcap 1.10.3 has no name for this value. */
  readonly newer?: boolean;
}

type Row = [linkType: number, dlt: number, name: string, description: string, extra?: { aliases?: string[]; newer?: boolean }];

// Order: by DLT. Descriptions are deliberately short; they label a drop-down, not a spec.
const ROWS: Row[] = [
  [0, 0, "NULL", "BSD loopback (4-byte host-order address family)"],
  [1, 1, "EN10MB", "Ethernet"],
  [2, 2, "EN3MB", "Experimental 3 Mb/s Ethernet", { newer: true }],
  [3, 3, "AX25", "Amateur radio AX.25", { newer: true }],
  [4, 4, "PRONET", "Proteon ProNET token ring", { newer: true }],
  [5, 5, "CHAOS", "MIT Chaosnet", { newer: true }],
  [6, 6, "IEEE802", "IEEE 802.5 token ring"],
  [7, 7, "ARCNET", "ARCNET with BSD-style header"],
  [8, 8, "SLIP", "Serial Line IP"],
  [9, 9, "PPP", "Point-to-Point Protocol"],
  [10, 10, "FDDI", "Fiber Distributed Data Interface"],
  [100, 11, "ATM_RFC1483", "ATM with LLC/SNAP encapsulation (RFC 1483)"],
  [101, 12, "RAW", "Raw IP, version taken from the first nibble"],
  [102, 15, "SLIP_BSDOS", "SLIP with a BSD/OS header"],
  [103, 16, "PPP_BSDOS", "PPP with a BSD/OS header"],
  [106, 19, "ATM_CLIP", "Classical IP over ATM (Linux)"],
  [32, 32, "REDBACK_SMARTEDGE", "Redback SmartEdge 400/800", { newer: true }],
  [50, 50, "PPP_SERIAL", "PPP in HDLC-like framing"],
  [51, 51, "PPP_ETHER", "PPPoE session (NetBSD)"],
  [99, 99, "SYMANTEC_FIREWALL", "Symantec Enterprise Firewall"],
  [104, 104, "C_HDLC", "Cisco HDLC"],
  [105, 105, "IEEE802_11", "IEEE 802.11 wireless, no radio header"],
  [107, 107, "FRELAY", "Frame Relay"],
  [108, 108, "LOOP", "OpenBSD loopback (4-byte network-order address family)"],
  [109, 109, "ENC", "OpenBSD IPsec encapsulation"],
  [113, 113, "LINUX_SLL", "Linux cooked capture, version 1 (16-byte header)"],
  [114, 114, "LTALK", "Apple LocalTalk"],
  [117, 117, "PFLOG", "OpenBSD pflog"],
  [119, 119, "PRISM_HEADER", "IEEE 802.11 with a Prism monitor header"],
  [122, 122, "IP_OVER_FC", "IP over Fibre Channel (RFC 2625)"],
  [123, 123, "SUNATM", "ATM with a SunATM header"],
  [127, 127, "IEEE802_11_RADIO", "IEEE 802.11 with a radiotap header"],
  [129, 129, "ARCNET_LINUX", "ARCNET with Linux-style header"],
  [130, 130, "JUNIPER_MLPPP", "Juniper multilink PPP"],
  [131, 131, "JUNIPER_MLFR", "Juniper multilink Frame Relay"],
  [132, 132, "JUNIPER_ES", "Juniper encryption services"],
  [133, 133, "JUNIPER_GGSN", "Juniper GGSN"],
  [134, 134, "JUNIPER_MFR", "Juniper FRF.16 multilink Frame Relay"],
  [135, 135, "JUNIPER_ATM2", "Juniper ATM2"],
  [136, 136, "JUNIPER_SERVICES", "Juniper advanced services"],
  [137, 137, "JUNIPER_ATM1", "Juniper ATM1"],
  [138, 138, "APPLE_IP_OVER_IEEE1394", "Apple IP over FireWire"],
  [139, 139, "MTP2_WITH_PHDR", "SS7 MTP2 with pseudo-header"],
  [140, 140, "MTP2", "SS7 MTP2"],
  [141, 141, "MTP3", "SS7 MTP3"],
  [142, 142, "SCCP", "SS7 SCCP"],
  [143, 143, "DOCSIS", "DOCSIS MAC frames"],
  [144, 144, "LINUX_IRDA", "Linux IrDA"],
  [163, 163, "IEEE802_11_RADIO_AVS", "IEEE 802.11 with an AVS radio header"],
  [164, 164, "JUNIPER_MONITOR", "Juniper passive monitor"],
  [165, 165, "BACNET_MS_TP", "BACnet MS/TP"],
  [166, 166, "PPP_PPPD", "PPP with a direction byte (pppd)"],
  [167, 167, "JUNIPER_PPPOE", "Juniper PPPoE"],
  [168, 168, "JUNIPER_PPPOE_ATM", "Juniper PPPoE over ATM"],
  [169, 169, "GPRS_LLC", "GPRS logical link control"],
  [170, 170, "GPF_T", "Generic framing procedure, transparent"],
  [171, 171, "GPF_F", "Generic framing procedure, frame-mapped"],
  [174, 174, "JUNIPER_PIC_PEER", "Juniper PIC peer"],
  [175, 175, "ERF_ETH", "Ethernet behind an Endace ERF header"],
  [176, 176, "ERF_POS", "Packet over SONET behind an Endace ERF header"],
  [177, 177, "LINUX_LAPD", "LAPD for vISDN on Linux"],
  [178, 178, "JUNIPER_ETHER", "Juniper Ethernet"],
  [179, 179, "JUNIPER_PPP", "Juniper PPP"],
  [180, 180, "JUNIPER_FRELAY", "Juniper Frame Relay"],
  [181, 181, "JUNIPER_CHDLC", "Juniper Cisco HDLC"],
  [182, 182, "MFR", "Multilink Frame Relay (FRF.16)"],
  [183, 183, "JUNIPER_VP", "Juniper voice PIC"],
  [184, 184, "A429", "ARINC 429 words"],
  [185, 185, "A653_ICM", "ARINC 653 interpartition messages"],
  [186, 186, "USB_FREEBSD", "USB with a FreeBSD header"],
  [187, 187, "BLUETOOTH_HCI_H4", "Bluetooth HCI over UART (H4)"],
  [188, 188, "IEEE802_16_MAC_CPS", "WiMAX MAC common part sublayer"],
  [189, 189, "USB_LINUX", "USB with a Linux usbmon header"],
  [190, 190, "CAN20B", "CAN 2.0B frames"],
  [191, 191, "IEEE802_15_4_LINUX", "IEEE 802.15.4 with Linux padding"],
  [192, 192, "PPI", "Per-Packet Information header"],
  [193, 193, "IEEE802_16_MAC_CPS_RADIO", "WiMAX MAC with radio header"],
  [194, 194, "JUNIPER_ISM", "Juniper integrated service module"],
  [195, 195, "IEEE802_15_4", "IEEE 802.15.4 with FCS"],
  [196, 196, "SITA", "SITA pseudo-header"],
  [197, 197, "ERF", "Endace ERF records"],
  [198, 198, "RAIF1", "Ethernet with a u10 Networks header"],
  [199, 199, "IPMB_KONTRON", "IPMB with a Kontron header"],
  [200, 200, "JUNIPER_ST", "Juniper secure tunnel"],
  [201, 201, "BLUETOOTH_HCI_H4_WITH_PHDR", "Bluetooth HCI H4 with direction header"],
  [202, 202, "AX25_KISS", "AX.25 with a KISS header"],
  [209, 209, "IPMB_LINUX", "I2C/IPMB with a Linux header", { aliases: ["I2C_LINUX"] }],
  [215, 215, "IEEE802_15_4_NONASK_PHY", "IEEE 802.15.4 with non-ASK PHY header"],
  [216, 216, "LINUX_EVDEV", "Linux input events"],
  [219, 219, "MPLS", "MPLS label stack as the link header"],
  [220, 220, "USB_LINUX_MMAPPED", "USB with a 64-byte Linux usbmon header"],
  [221, 221, "DECT", "DECT"],
  [222, 222, "AOS", "CCSDS AOS space data link"],
  [223, 223, "WIHART", "WirelessHART"],
  [224, 224, "FC_2", "Fibre Channel FC-2"],
  [225, 225, "FC_2_WITH_FRAME_DELIMS", "Fibre Channel FC-2 with frame delimiters"],
  [226, 226, "IPNET", "Solaris ipnet"],
  [227, 227, "CAN_SOCKETCAN", "CAN with a SocketCAN header"],
  [228, 228, "IPV4", "Raw IPv4"],
  [229, 229, "IPV6", "Raw IPv6"],
  [230, 230, "IEEE802_15_4_NOFCS", "IEEE 802.15.4 without FCS"],
  [231, 231, "DBUS", "D-Bus messages"],
  [232, 232, "JUNIPER_VS", "Juniper virtual server"],
  [233, 233, "JUNIPER_SRX_E2E", "Juniper SRX end-to-end"],
  [234, 234, "JUNIPER_FIBRECHANNEL", "Juniper Fibre Channel"],
  [235, 235, "DVB_CI", "DVB Common Interface"],
  [236, 236, "MUX27010", "3GPP 27.010-like multiplexing"],
  [237, 237, "STANAG_5066_D_PDU", "STANAG 5066 data PDUs"],
  [238, 238, "JUNIPER_ATM_CEMIC", "Juniper ATM CEMIC"],
  [239, 239, "NFLOG", "Linux netfilter NFLOG"],
  [240, 240, "NETANALYZER", "Ethernet with a Hilscher netANALYZER header"],
  [241, 241, "NETANALYZER_TRANSPARENT", "Ethernet with netANALYZER header, preamble and SFD"],
  [242, 242, "IPOIB", "IP over InfiniBand (RFC 4391)"],
  [243, 243, "MPEG_2_TS", "MPEG-2 transport stream"],
  [244, 244, "NG40", "ng40 protocol tester Iub/Iur"],
  [245, 245, "NFC_LLCP", "NFC LLCP with pseudo-header"],
  [246, 246, "PFSYNC", "pf state synchronisation"],
  [247, 247, "INFINIBAND", "Raw InfiniBand"],
  [248, 248, "SCTP", "SCTP without IP"],
  [249, 249, "USBPCAP", "USB with a USBPcap header"],
  [250, 250, "RTAC_SERIAL", "SEL RTAC serial line"],
  [251, 251, "BLUETOOTH_LE_LL", "Bluetooth LE link layer"],
  [253, 253, "NETLINK", "Linux netlink (nlmon)"],
  [254, 254, "BLUETOOTH_LINUX_MONITOR", "BlueZ monitor"],
  [255, 255, "BLUETOOTH_BREDR_BB", "Bluetooth BR/EDR baseband"],
  [256, 256, "BLUETOOTH_LE_LL_WITH_PHDR", "Bluetooth LE link layer with radio header"],
  [257, 257, "PROFIBUS_DL", "PROFIBUS data link"],
  [258, 258, "PKTAP", "Apple PKTAP"],
  [259, 259, "EPON", "Ethernet with EPON preamble"],
  [260, 260, "IPMI_HPM_2", "IPMI HPM.2 trace"],
  [261, 261, "ZWAVE_R1_R2", "Z-Wave R1/R2 radio"],
  [262, 262, "ZWAVE_R3", "Z-Wave R3 radio"],
  [263, 263, "WATTSTOPPER_DLM", "WattStopper DLM / Legrand Nitoo"],
  [264, 264, "ISO_14443", "ISO 14443 contactless card"],
  [265, 265, "RDS", "Radio Data System groups"],
  [266, 266, "USB_DARWIN", "USB with a Darwin header"],
  [267, 267, "OPENFLOW", "OpenFlow (OpenBSD)"],
  [268, 268, "SDLC", "IBM SDLC"],
  [269, 269, "TI_LLN_SNIFFER", "TI low-power sniffer"],
  [271, 271, "VSOCK", "Linux vsock monitor"],
  [272, 272, "NORDIC_BLE", "Nordic BLE sniffer"],
  [273, 273, "DOCSIS31_XRA31", "DOCSIS 3.1 XRA-31 sniffer"],
  [274, 274, "ETHERNET_MPACKET", "IEEE 802.3br mPackets"],
  [275, 275, "DISPLAYPORT_AUX", "DisplayPort AUX channel"],
  [276, 276, "LINUX_SLL2", "Linux cooked capture, version 2 (20-byte header)"],
  [278, 278, "OPENVIZSLA", "OpenVizsla USB"],
  [279, 279, "EBHSCR", "Elektrobit EBHSCR"],
  [280, 280, "VPP_DISPATCH", "fd.io VPP dispatch trace"],
  [281, 281, "DSA_TAG_BRCM", "Ethernet with a Broadcom switch tag"],
  [282, 282, "DSA_TAG_BRCM_PREPEND", "Ethernet with a prepended Broadcom switch tag"],
  [283, 283, "IEEE802_15_4_TAP", "IEEE 802.15.4 with a TAP header"],
  [284, 284, "DSA_TAG_DSA", "Ethernet with a Marvell DSA tag"],
  [285, 285, "DSA_TAG_EDSA", "Ethernet with a Marvell EDSA tag"],
  [286, 286, "ELEE", "ELEE lawful intercept"],
  [287, 287, "Z_WAVE_SERIAL", "Z-Wave serial API"],
  [288, 288, "USB_2_0", "USB 2.0 on the wire"],
  [289, 289, "ATSC_ALP", "ATSC link-layer protocol"],
  [290, 290, "ETW", "Event Tracing for Windows", { newer: true }],
  [291, 291, "NETANALYZER_NG", "Hilscher netANALYZER NG", { newer: true }],
  [292, 292, "ZBOSS_NCP", "ZBOSS network co-processor", { newer: true }],
  [293, 293, "USB_2_0_LOW_SPEED", "USB 2.0 low speed on the wire", { newer: true }],
  [294, 294, "USB_2_0_FULL_SPEED", "USB 2.0 full speed on the wire", { newer: true }],
  [295, 295, "USB_2_0_HIGH_SPEED", "USB 2.0 high speed on the wire", { newer: true }],
  [296, 296, "AUERSWALD_LOG", "Auerswald logger", { newer: true }],
  [297, 297, "ZWAVE_TAP", "Z-Wave with a TAP header", { newer: true }],
  [298, 298, "SILABS_DEBUG_CHANNEL", "Silicon Labs debug channel", { newer: true }],
  [299, 299, "FIRA_UCI", "FiRa UWB controller interface", { newer: true }],
  [300, 300, "MDB", "Multi-Drop Bus (vending machines)", { newer: true }],
  [301, 301, "DECT_NR", "DECT-2020 NR MAC", { newer: true }],
];

export const LINK_TYPES: readonly LinkTypeInfo[] = ROWS.map(([linkType, dlt, name, description, extra]) => ({
  linkType,
  dlt,
  name,
  description,
  ...(extra?.aliases ? { aliases: extra.aliases } : {}),
  ...(extra?.newer ? { newer: true } : {}),
}));

/** The DLT values the dissector and the packet generator understand, by name. */
export const DLT = {
  NULL: 0,
  EN10MB: 1,
  PPP: 9,
  RAW: 12,
  PPP_SERIAL: 50,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** The matching LINKTYPE values (what goes in a file). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  RAW: 101,
  PPP_HDLC: 50,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** Highest value of the range where LINKTYPE and DLT coincide (libpcap master; 1.10.3 stops at 289). */
const MATCHING_MIN = 104;
const MATCHING_MAX = 301;

// The LINKTYPE values outside the matching range whose Linux DLT differs.
const LINKTYPE_TO_DLT_EXCEPTIONS: ReadonlyMap<number, number> = new Map([
  [100, 11], // ATM_RFC1483
  [101, 12], // RAW
  [102, 15], // SLIP_BSDOS
  [103, 16], // PPP_BSDOS
  [106, 19], // ATM_CLIP: inside the matching range by number, but its DLT is 19 everywhere
]);
const DLT_TO_LINKTYPE_EXCEPTIONS: ReadonlyMap<number, number> = new Map(
  [...LINKTYPE_TO_DLT_EXCEPTIONS].map(([lt, dlt]) => [dlt, lt]),
);
// DLTs below the matching range that are written to files unchanged.
const SAME_BELOW_RANGE: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50, 51, 99]);

/**
 * libpcap's linktype_to_dlt on Linux: the few remapped values, and every other value unchanged
 * (an unknown LINKTYPE may be a DLT from a newer libpcap).
 */
export function linkTypeToDlt(linkType: number): number {
  return LINKTYPE_TO_DLT_EXCEPTIONS.get(linkType) ?? linkType;
}

/** libpcap's dlt_to_linktype on Linux; -1 when the DLT has no file representation. */
export function dltToLinkType(dlt: number): number {
  const mapped = DLT_TO_LINKTYPE_EXCEPTIONS.get(dlt);
  if (mapped !== undefined) return mapped;
  if (dlt >= MATCHING_MIN && dlt <= MATCHING_MAX) return dlt;
  if (SAME_BELOW_RANGE.has(dlt)) return dlt;
  return -1;
}

const BY_DLT: ReadonlyMap<number, LinkTypeInfo> = new Map(LINK_TYPES.map((t) => [t.dlt, t]));
const BY_NAME: ReadonlyMap<string, LinkTypeInfo> = new Map(
  LINK_TYPES.flatMap((t) => [t.name, ...(t.aliases ?? [])].map((n) => [n, t] as const)),
);

/** The table entry for a DLT, if we know it. */
export function dltInfo(dlt: number): LinkTypeInfo | undefined {
  return BY_DLT.get(dlt);
}

/** pcap_datalink_val_to_name without the "DLT_" prefix, e.g. 276 → "LINUX_SLL2". */
export function dltName(dlt: number): string | undefined {
  return BY_DLT.get(dlt)?.name;
}

/** pcap_datalink_name_to_val: case-insensitive, with or without "DLT_". */
export function dltByName(name: string): number | undefined {
  let key = name.trim().toUpperCase();
  if (key.startsWith("DLT_")) key = key.slice(4);
  return BY_NAME.get(key)?.dlt;
}

/** A label for UIs and messages: "EN10MB (Ethernet)", or the bare number for unknown types. */
export function dltLabel(dlt: number): string {
  const info = BY_DLT.get(dlt);
  return info ? `${info.name} (${info.description})` : `DLT ${dlt}`;
}
