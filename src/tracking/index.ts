export { ByteTracker, type TrackedObject, type TrackerContext } from './tracker.js';
export { classGroupsOf, CLASS_GROUP_NAMES } from './classGroups.js';
export { warpMaskToBox, clipMaskToBox } from './maskWarp.js';
export { estimateCameraShift, type CameraShift } from './cameraMotion.js';
export {
  trackerOptionsSchema,
  parseTrackerOptions,
  DEFAULT_TRACKER_OPTIONS,
  type TrackerOptions,
  type TrackerOptionsInput,
} from './options.js';
export { TRACK_STATES, type TrackState } from './track.js';
export { trackedToDetections } from './toDetections.js';
export { KalmanBoxFilter, REFERENCE_INTERVAL_S, boxToMeasurement, stateToBox, type Box, type KalmanState, type KalmanNoise } from './kalman.js';
export { linearSumAssignment, assignWithThreshold, costMatrix, type CostMatrix, type Assignment } from './assignment.js';
export { parseMotDetections, runTrackerOnMot, DEFAULT_MOT_FPS, formatMotResults, type MotRow, type RunMotOptions } from './mot.js';
export { motCommand, type MotCommandOptions } from './motCommand.js';
export { attachTracks } from './attachTracks.js';
