package io.switchboard.usage;

/**
 * The generation id of a journaled request, learnt from the upstream's response after the admission
 * was journaled: a request cut off by a crash can then still be settled from the upstream's own
 * accounting (the provider bills it whether or not the gateway lived to see the end).
 */
record JournalGeneration(String entryId, String generationId) {}
