export { pickArm, windowState } from './bucket'
export { hashKey, murmur3, unitHash, HOLDOUT_ID, type HashSalt } from './hash'
export { experimentHooks, inHoldout } from './hooks'
export { layerIndex, type LayerIndex, type LayerMember } from './layers'
