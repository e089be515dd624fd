/**
 * Filter injection: find a host object's filter stub, translate a cBPF filter with the stub's
 * register convention and splice it in (pwru's technique), with before/after streams for the diff.
 * Isomorphic and pure: bytes or a read object in, a patched object and its bytes out.
 */
export * from "./types";
export { injectFilter } from "./inject";
export { findStubs, resolveStub, layerOfName, STUB_PREFIX, DEFAULT_STUB } from "./stubs";
export { HOST_OBJECTS, SKB_FENTRY_HOST, linkTypeOf, hostKindOf, LINKTYPE_EN10MB, LINKTYPE_RAW, REJECT_ALL, type HostObject } from "./hosts";
export { sectionAccess, accessReason, type SectionAccess } from "./access";
export { INJECT_REFUSALS, isInjectRefusal } from "./refuse";
export { objectStreams } from "./streams";
export { MAX_BPF_STACK, frameDepth, stackThroughStub } from "./stack";
