/** The quota syntax lives in the bottom layer (config parses it); re-exported here for the quota modules. */
export * from '../config/quota-spec.js';
