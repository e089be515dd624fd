/** The pcap-filter language for editors: tokens, a recognizer, error placement, completion, docs. */
export { tokenize, type Token, type TokenKind } from "./tokens";
export { parseFilter, isTooDeep, MAX_FILTER_DEPTH, primitivesOf, standaloneText, type ParseResult, type FilterNode, type SyntaxIssue, type Expectation } from "./parse";
export { locateError, type ErrorLocation, type ProbeCompile } from "./locate";
export { completeFilter, type Completion, type CompletionResult } from "./complete";
export { describeWord, type WordDoc } from "./docs";
export { keywordRole, type KeywordRole } from "./keywords";
