-- One name per operation on hosts and the center (hierro_api::Operation):
-- the center's own names for these retire.
UPDATE tasks SET operation = 'VirtualMachine.powerOn' WHERE operation = 'VirtualMachine.power.on';
UPDATE tasks SET operation = 'VirtualMachine.powerOff' WHERE operation = 'VirtualMachine.power.off';
UPDATE tasks SET operation = 'VirtualMachine.reset' WHERE operation = 'VirtualMachine.power.reset';
UPDATE tasks SET operation = 'VirtualMachine.shutdownGuest' WHERE operation = 'VirtualMachine.power.shutdown';
UPDATE tasks SET operation = 'VirtualMachine.createSnapshot' WHERE operation = 'VirtualMachine.snapshot.create';
UPDATE tasks SET operation = 'VirtualMachine.revertToSnapshot' WHERE operation = 'VirtualMachine.snapshot.revert';
UPDATE tasks SET operation = 'VirtualMachine.removeSnapshot' WHERE operation = 'VirtualMachine.snapshot.delete';
UPDATE tasks SET operation = 'VirtualMachine.destroy' WHERE operation = 'VirtualMachine.delete';
-- Likewise one event name (hierro_api::EventKind).
UPDATE events SET kind = 'VmRevertedToSnapshotEvent' WHERE kind = 'VmSnapshotRevertedEvent';
