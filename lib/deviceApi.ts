/**
 * `device.*`: upload / wrap / pointer for device-resident data.
 *
 * @packageDocumentation
 */
export { upload, wrap, pointer } from './device';
