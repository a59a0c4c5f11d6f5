import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { LoginTokenPurpose } from '@mz/contracts';

/** A one-time login token. Only its sha256 is stored; the token itself exists only in the email. */
@Entity('login_token')
export class LoginToken {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Index() @Column('uuid', { name: 'user_id' }) userId: string;
  @Column('text', { name: 'token_hash', unique: true }) tokenHash: string;
  @Column('text', { default: 'login' }) purpose: LoginTokenPurpose;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @Column('timestamptz', { name: 'used_at', nullable: true }) usedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
